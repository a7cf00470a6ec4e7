"""Badge images and baking credentials into PNG and SVG."""
