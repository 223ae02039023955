// Site-wide behaviour, kept out of the pages so the CSP can forbid inline script.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
