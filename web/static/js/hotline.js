// The live-call form's keys (web/templates/appeals/new.html): Ctrl+Enter files the appeal from
// any field, and Enter in the appeal's text files it too, Shift+Enter starting a new line, so
// an operator files an ordinary appeal without leaving the keyboard. Without this script the
// form still files with its button; the access keys (Alt+D, Alt+N) are the browser's own.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || event.isComposing || !(event.target instanceof Element)) {
    return;
  }
  const form = event.target.closest("form[data-live-call]");
  if (!form) {
    return;
  }
  const inText = event.target.name === "text" && !event.shiftKey && !event.altKey;
  if (event.ctrlKey || event.metaKey || inText) {
    event.preventDefault();
    form.requestSubmit(form.querySelector("button[value=file]"));
  }
});
