// Placeholder entry: the SlideViewer front end lands with the viewer issue.
export default {
  render({ el }: { el: HTMLElement }) {
    el.textContent = "exact-lab viewer";
  },
};
