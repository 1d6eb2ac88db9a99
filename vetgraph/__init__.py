"""vetgraph: linked open data of the ET 2020 Working Group on VET report *Innovation & Digitalisation* (2020)."""

__version__ = "0.1.0"
