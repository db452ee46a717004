// Loaded in <head>, before the body is parsed: counts Content-Security-Policy
// violations (the XSS tests read window.vigilCspViolations) and logs them.
window.vigilCspViolations = 0;
document.addEventListener('securitypolicyviolation', function (e) {
  window.vigilCspViolations += 1;
  console.warn('CSP violation:', e.violatedDirective, e.blockedURI);
});
