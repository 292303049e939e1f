"""HTTP plumbing: request context, current user, CSRF, security headers, languages, error pages."""
