// Hands the identity provider's answer to the page that asked (MSAL Browser 5 redirect bridge).
window.msalRedirectBridge.broadcastResponseToMainFrame().catch(() => {
  document.body.textContent = 'La connexion n’a pas abouti : fermez cette fenêtre et réessayez.';
});
