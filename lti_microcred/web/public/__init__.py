"""Pages anyone may open: the front page, credential URLs, the verifier, the supervisor's link."""
