"""The congress as it is organised, the ground the features stand on: congresses and their
terms, the standing registry of deputies, deputy groups, liaison stations and grids. Sessions,
ballots, proposals, projects and surveys import from here; nothing here imports from them."""
