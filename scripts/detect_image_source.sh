#!/usr/bin/env bash
# Print "registry" when Docker Hub answers, "offline" when it does not (no
# container registry on these machines). An explicit DEV_IMAGE_SOURCE wins.
if timeout 5 bash -c 'exec 3<>/dev/tcp/registry-1.docker.io/443' 2>/dev/null; then
  echo registry
else
  echo offline
fi
