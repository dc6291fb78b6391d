// Confirmation for forms marked data-confirm ("watched everything up to here"). It listens in the
// capture phase so a "cancel" stops htmx too, and it is a file because the CSP forbids inline handlers.
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// A server or network failure on an htmx request: say so where messages appear. Client errors
// (4xx) arrive as a message fragment from the server and are swapped there by htmx itself.
function showFailure(text) {
  var box = document.getElementById("messages");
  if (!box) return;
  var message = document.createElement("p");
  message.className = "message error";
  message.setAttribute("role", "alert");
  message.textContent = text;
  box.replaceChildren(message);
}
document.addEventListener("htmx:responseError", function (event) {
  if (event.detail.xhr.status >= 500) {
    showFailure("Something went wrong and nothing was changed. Please try again.");
  }
});
document.addEventListener("htmx:sendError", function () {
  showFailure("Could not reach the server. Check your connection and try again.");
});

// A fragment taken off the page while its request is out ignores the answer: it has nowhere to go.
// (A thread still loading when its episode is unmarked comes back a 404, and htmx, looking for
// #messages from the detached fragment, would throw.) Only a detached fragment's answer is dropped.
document.addEventListener("htmx:beforeCleanupElement", function (event) {
  event.target.addEventListener("htmx:beforeOnLoad", function (late) {
    if (!late.target.isConnected) late.preventDefault();
  });
});

// "Watched all up to here" disappears once its episode is watched; keep keyboard focus in the row
// by moving it to that episode's watch button after the swap.
document.addEventListener("htmx:afterSettle", function (event) {
  var source = event.detail.requestConfig && event.detail.requestConfig.elt;
  var targetId = source && source.getAttribute && source.getAttribute("data-focus-after");
  var target = targetId && document.getElementById(targetId);
  if (target) target.focus();
});

// "Copy the link" buttons copy the text of the element their data-copy names, and say so.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-copy]");
  var source = button && document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
    button.textContent = "Copied";
  });
});

// The show page lands on the season the viewer is in (marked data-land-here), unless the address
// names a place of its own (a row's "#episode-N" after a mark without htmx).
document.addEventListener("DOMContentLoaded", function () {
  if (window.location.hash) return;
  var here = document.querySelector("[data-land-here]");
  if (here) here.scrollIntoView({block: "start"});
});
