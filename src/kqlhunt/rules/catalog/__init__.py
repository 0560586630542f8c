"""The static catalog site: corpus statistics (`corpus`) and HTML pages (`site`, jinja2 templates)."""
