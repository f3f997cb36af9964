{
  "targets": [
    {
      "target_name": "yizheng_sm2",
      "sources": ["native/sm2_addon.c"],
      "include_dirs": ["<(node_root_dir)/include/node"],
      "cflags": ["-std=c11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"],
      "xcode_settings": { "OTHER_CFLAGS": ["-std=c11", "-O2"] }
    }
  ]
}
