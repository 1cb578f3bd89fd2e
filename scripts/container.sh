#!/usr/bin/env bash
# Builds the leadengine container image with the .NET SDK alone (no Docker daemon): the CLI (serve, score, update, ...)
# on the ASP.NET Core runtime image, written as a tarball to load into a registry (docker load, podman load, crane push).
# Needs the base image's registry (mcr.microsoft.com) to be reachable.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$root/artifacts"
dotnet publish "$root/src/Cli" -c Release -t:PublishContainer \
  -p:ContainerArchiveOutputPath="$root/artifacts/leadengine-image.tar.gz" "$@"
echo "container: artifacts/leadengine-image.tar.gz (image leadengine:0.1.0)"
