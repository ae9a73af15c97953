// The live-call form's keys (web/templates/appeals/new.html), so an operator files an ordinary
// appeal without leaving the keyboard: Ctrl+Enter files the appeal from any field, and Enter in
// the appeal's text files it too (Shift+Enter starts a new line); Alt+D files it as a dropped
// call with its callback; Alt+N goes back to the caller's name. Keys are read by position
// (`code`), so they work in the Russian layout too. Without this script the form still files
// with its two buttons. The home-visit call (web/templates/home_visits/new.html) shares the
// keys it has: Ctrl+Enter and Alt+N (it has no dropped call).
document.addEventListener("keydown", (event) => {
  if (event.isComposing || !(event.target instanceof Element)) {
    return;
  }
  const form = document.querySelector("form[data-live-call]");
  if (!form) {
    return;
  }
  const submit = (action) => {
    event.preventDefault();
    form.requestSubmit(form.querySelector(`button[value=${action}]`));
  };
  const plainAlt = event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey;
  if (plainAlt && event.code === "KeyD" && form.querySelector("button[value=dropped]")) {
    submit("dropped");
  } else if (plainAlt && event.code === "KeyN") {
    event.preventDefault();
    form.querySelector("[autofocus]").focus();
  } else if (event.key === "Enter" && form.contains(event.target)) {
    const inText = event.target.name === "text" && !event.shiftKey && !event.altKey;
    if (event.ctrlKey || event.metaKey || inText) {
      submit("file");
    }
  }
});
