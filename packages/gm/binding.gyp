{
  "targets": [
    {
      "target_name": "yizheng_sm2",
      "sources": ["native/sm2_addon.c"],
      "include_dirs": ["<(node_root_dir)/include/node"],
      "cflags": ["-std=c11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"],
      "xcode_settings": { "OTHER_CFLAGS": ["-std=c11", "-O2"] }
    },
    {
      "target_name": "yizheng_sm2_native",
      "sources": [
        "native/sm2_native_addon.c",
        "native/sm2p256.c",
        "native/sm2_sign.c",
        "native/sm3.c",
        "native/signed_data_shape.c"
      ],
      "include_dirs": ["<(node_root_dir)/include/node"],
      "cflags": ["-std=c11", "-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"],
      "xcode_settings": { "OTHER_CFLAGS": ["-std=c11", "-O3"] }
    }
  ]
}
