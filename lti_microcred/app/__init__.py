"""Process assembly: the web app factory, delivery set-up for web and worker processes, first-run set-up."""
