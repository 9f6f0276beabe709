"""The project store: DuckLake connection, schema, annotations, the edit session, versions and
change notification. Its public face is the ``Project`` (``exact_lab/project.py`` mixes these
modules' mixins together)."""
