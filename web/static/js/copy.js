/* A button that copies a field shown once (a tablet's link) to the clipboard: `data-copy` names
   the field's id; the note beside it (`data-copied`) says it is done. Without the clipboard API
   (a page not served over HTTPS), the field's text is selected for the person to copy. */
"use strict";
document.querySelectorAll("button[data-copy]").forEach((button) => {
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copy);
    const note = button.parentElement.querySelector("[data-copied]");
    try {
      await navigator.clipboard.writeText(field.value);
      if (note) note.hidden = false;
    } catch (err) {
      field.focus();
      field.select();
    }
  });
});
