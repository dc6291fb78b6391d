// Confirmation for forms marked data-confirm ("watched everything up to here"). It listens in the
// capture phase so a "cancel" stops htmx too, and it is a file because the CSP forbids inline handlers.
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
