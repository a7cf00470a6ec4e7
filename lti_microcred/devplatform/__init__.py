"""A loopback LMS for `microcred demo` and the end-to-end tests (built on lti1p3platform)."""
