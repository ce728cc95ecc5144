"""Staff pages of the deputy groups (代表小组): the registry keeps them, these pages manage them."""
