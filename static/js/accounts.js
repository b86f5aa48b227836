// Accounts pages: when an in-place action (follow, approve…) is refused, say why next to
// it. htmx leaves the page as it is on an error answer; the answer carries the message.
document.body.addEventListener("htmx:responseError", (event) => {
  const source = event.detail.elt;
  const row = source && source.closest(".follow-button, .person-row");
  if (!row) return;
  const answer = new DOMParser().parseFromString(event.detail.xhr.responseText, "text/html");
  const text = answer.querySelector("[role=alert]")?.textContent.trim() || "That didn't work. Try again.";
  let note = row.querySelector(".action-error");
  if (!note) {
    note = document.createElement("p");
    note.className = "error action-error";
    note.setAttribute("role", "alert");
    row.append(note);
  }
  note.textContent = text;
});
