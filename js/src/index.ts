// anywidget entry point of the SlideViewer widget.
import { Session, Model } from "./session";
import { ViewerView } from "./view";

const sessions = new WeakMap<object, Session>();

function sessionOf(model: Model): Session {
  let s = sessions.get(model);
  if (!s) {
    s = new Session(model);
    sessions.set(model, s);
  }
  return s;
}

export default {
  initialize({ model }: { model: Model }) {
    sessionOf(model);
  },
  render({ model, el }: { model: Model; el: HTMLElement }) {
    const view = new ViewerView(sessionOf(model), el);
    return () => view.destroy();
  },
};
