"""What every audience's pages share: the request's context, sessions and guards, errors, uploads, progress."""
