"""The catalog file: its format (schema, fields), reading it (load), importing it (store) and the demo catalog."""
