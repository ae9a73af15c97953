#!/bin/sh
# One-shot set-up of the files service's bucket on MinIO, run by `minio-init` in
# docker-compose.yml (or by hand with mc and the same variables). Safe to run again.
#  - the bucket, with versioning (an overwritten or deleted object keeps its earlier versions)
#    and SSE-S3 encryption at rest (MinIO's KMS key, MINIO_KMS_SECRET_KEY or KES);
#  - a lifecycle: noncurrent versions expire after S3_NONCURRENT_DAYS, so a file the service
#    purged is really gone by then (MinIO takes no AbortIncompleteMultipartUpload rule; it
#    clears stale multipart uploads itself after MINIO_API_STALE_UPLOADS_EXPIRY);
#  - the service's own user, allowed object operations on this bucket only: it can neither
#    change the bucket's configuration nor delete a version outright.
set -eu
: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${S3_ACCESS_KEY:?}" "${S3_SECRET_KEY:?}"
bucket="${S3_BUCKET:-telemed-files}"
keep_days="${S3_NONCURRENT_DAYS:-90}"
endpoint="${MINIO_ENDPOINT:-http://minio:9000}"

mc alias set telemed "$endpoint" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing "telemed/$bucket"
mc version enable "telemed/$bucket"
mc encrypt set sse-s3 "telemed/$bucket"

lifecycle=/tmp/telemed-lifecycle.json
cat > "$lifecycle" <<JSON
{"Rules": [
  {"ID": "expire-noncurrent-versions", "Status": "Enabled", "Filter": {"Prefix": ""},
   "NoncurrentVersionExpiration": {"NoncurrentDays": $keep_days},
   "Expiration": {"ExpiredObjectDeleteMarker": true}}
]}
JSON
mc ilm import "telemed/$bucket" < "$lifecycle"

policy=/tmp/telemed-files-policy.json
cat > "$policy" <<JSON
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow",
   "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
   "Resource": ["arn:aws:s3:::$bucket"]},
  {"Effect": "Allow",
   "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
              "s3:ListMultipartUploadParts"],
   "Resource": ["arn:aws:s3:::$bucket/*"]}
]}
JSON
mc admin policy create telemed telemed-files "$policy"
mc admin user add telemed "$S3_ACCESS_KEY" "$S3_SECRET_KEY"
# Attaching a policy that is already attached is an error; the result is what matters.
mc admin policy attach telemed telemed-files --user "$S3_ACCESS_KEY" \
    || mc admin user info telemed "$S3_ACCESS_KEY" | grep -q telemed-files
echo "minio-init: bucket $bucket ready for $S3_ACCESS_KEY"
