// Swagger UI over this server's own /openapi.json. "Try it out" calls the API from this
// origin, so the browser sends the session cookie (sign in with POST /login first).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  withCredentials: true,
});
