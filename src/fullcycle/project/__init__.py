"""A project of your own: `fullcycle init` renders the template (../template/) into a new repository."""
