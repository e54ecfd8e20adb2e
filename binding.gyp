# SPDX-License-Identifier: MIT
{
  "targets": [
    {
      "target_name": "kgwttm",
      "conditions": [
        ["OS=='linux'", {
          "sources": ["src/kgwttm.cc"],
          "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
          "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
          "cflags_cc": ["-Wall", "-Wextra", "-Werror=return-type"]
        }, {
          "type": "none"
        }]
      ]
    }
  ]
}
