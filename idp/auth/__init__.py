"""The sign-in flow: identify -> password -> further factors -> session; logout."""
