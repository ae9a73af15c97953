"""The hotline's knowledge base: articles operators read out and cite in their answers."""
