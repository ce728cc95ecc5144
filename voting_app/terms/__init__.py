"""The committee's pages for congresses, their terms and the standing registry of deputies."""
