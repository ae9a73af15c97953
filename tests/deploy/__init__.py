"""Tests of the deployment files: docker-compose.yml, Dockerfile, deploy/k8s, deploy/grafana."""
