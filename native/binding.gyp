{
  "targets": [
    {
      "target_name": "fer_native",
      "sources": [
        "src/addon.cc",
        "src/conv.cc",
        "src/depthwise.cc",
        "src/pool.cc",
        "src/elementwise.cc",
        "src/step.cc",
        "src/augment.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "/usr/include",
        "/usr/local/include",
        "/opt/homebrew/include"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS"
      ],
      "cflags_cc!": [
        "-fno-exceptions"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O3",
        "-ffp-contract=off",
        "-fopenmp",
        "-fexceptions",
        "-Wno-psabi"
      ],
      "ldflags": [
        "-fopenmp"
      ],
      "libraries": [
        "-ldnnl",
        "-L/usr/local/lib",
        "-L/opt/homebrew/lib"
      ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": [
          "-std=c++17",
          "-O3",
          "-ffp-contract=off",
          "-Xpreprocessor",
          "-fopenmp"
        ],
        "OTHER_LDFLAGS": [
          "-lomp"
        ]
      }
    }
  ],
  "conditions": [
    [
      "'<!(pkg-config --exists dlib-1 2>/dev/null && echo yes || echo no)'=='yes'",
      {
        "targets": [
          {
            "target_name": "fer_dlib",
            "sources": [
              "src/dlib_faces.cc"
            ],
            "include_dirs": [
              "<!(node -p \"require('node-addon-api').include_dir\")",
              "/usr/include",
              "/usr/local/include",
              "/opt/homebrew/include"
            ],
            "defines": [
              "NAPI_VERSION=8",
              "NAPI_DISABLE_CPP_EXCEPTIONS",
              "DLIB_NO_GUI_SUPPORT"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-fno-rtti"
            ],
            "cflags_cc": [
              "-std=c++17",
              "-O3",
              "-fexceptions"
            ],
            "libraries": [
              "<!@(pkg-config --libs dlib-1)"
            ]
          },
          {
            "target_name": "fer_dlib_avx2",
            "sources": [
              "src/dlib_faces.cc"
            ],
            "include_dirs": [
              "<!(node -p \"require('node-addon-api').include_dir\")",
              "/usr/include",
              "/usr/local/include",
              "/opt/homebrew/include"
            ],
            "defines": [
              "NAPI_VERSION=8",
              "NAPI_DISABLE_CPP_EXCEPTIONS",
              "DLIB_NO_GUI_SUPPORT"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-fno-rtti"
            ],
            "cflags_cc": [
              "-std=c++17",
              "-O3",
              "-fexceptions",
              "-mavx2",
              "-mfma",
              "-ffp-contract=off"
            ],
            "libraries": [
              "<!@(pkg-config --libs dlib-1)"
            ],
            "product_name": "fer_dlib-avx2"
          },
          {
            "target_name": "fer_dlib_reference",
            "type": "executable",
            "sources": [
              "src/dlib_reference.cc"
            ],
            "defines": [
              "DLIB_NO_GUI_SUPPORT"
            ],
            "cflags_cc!": [
              "-fno-exceptions",
              "-fno-rtti"
            ],
            "cflags_cc": [
              "-std=c++17",
              "-O2",
              "-fexceptions"
            ],
            "libraries": [
              "<!@(pkg-config --libs dlib-1)"
            ]
          }
        ]
      }
    ]
  ]
}
