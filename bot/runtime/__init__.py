"""Start-up (settings, content, Redis, engine) and the web server that mounts the adapters."""
