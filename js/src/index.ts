// anywidget entry point of the SlideViewer widget.
import { Session } from "./session/session";
import { ViewerView } from "./view";
import type { ViewerWidgetModel } from "./widget-model";

const sessions = new WeakMap<object, Session>();

function sessionOf(model: ViewerWidgetModel): Session {
  let s = sessions.get(model);
  if (!s) {
    s = new Session(model);
    sessions.set(model, s);
  }
  return s;
}

export default {
  initialize({ model }: { model: ViewerWidgetModel }) {
    sessionOf(model);
  },
  render({ model, el }: { model: ViewerWidgetModel; el: HTMLElement }) {
    const view = new ViewerView(sessionOf(model), el);
    return () => view.destroy();
  },
};
