"""The conversation core: hearing the user, deciding the turn, answering and speaking."""
