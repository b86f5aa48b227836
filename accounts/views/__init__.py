"""Accounts pages, by sub-domain: auth.py (register, log in/out, passwords), people.py
(profiles, follow lists and actions, requests, blocks, edit profile, settings),
circles.py (my circles, a circle, invitations). Shared translation lives in edges.py."""
