"""ouch-client."""
