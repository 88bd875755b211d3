// Shows a readable message when an htmx request fails: htmx 2 does not swap 4xx/5xx bodies.
document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail.xhr;
  var text = "The request failed (" + xhr.status + ").";
  var type = xhr.getResponseHeader("Content-Type") || "";
  if (type.indexOf("text/plain") === 0 && xhr.responseText) { text = xhr.responseText; }
  else if (xhr.status === 403) { text = "Your role does not allow this action."; }
  else if (xhr.status === 409) { text = "This conflicts with the VM's current state. Reload the page to see it."; }
  showToast(text);
});
document.addEventListener("htmx:sendError", function () {
  showToast("The dashboard could not be reached. Check your connection and try again.");
});
function showToast(text) {
  var box = document.getElementById("messages");
  if (!box) { return; }
  var p = document.createElement("p");
  p.className = "message message-error";
  p.setAttribute("role", "alert");
  p.textContent = text;
  box.appendChild(p);
  setTimeout(function () { p.remove(); }, 8000);
}
