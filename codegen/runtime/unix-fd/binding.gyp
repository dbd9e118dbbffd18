{
  "targets": [
    {
      "target_name": "unix_fd",
      "sources": ["src/unix_fd.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
