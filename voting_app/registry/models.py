"""The standing organisation of a congress: tables that outlive any one session."""
