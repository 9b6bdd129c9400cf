"""The engine and what it is made of; knows no feature and no platform."""
