"""The terminals of grammar/*.lark as regular expressions, as the Lark lexer uses them.

Generated from the grammar files by `make terminals`; do not edit. tests/test_grammar.py
holds it equal to what Lark builds, so a valid line is read without importing Lark.
"""

# ruff: noqa: E501

TERMINALS: dict[str, dict[str, str]] = {
    "inquiry.lark": {
        "DATE": "[0-9]{2}\\/[0-9]{2}\\/[0-9]{4}",
        "KEY": "[A-Z][A-Z0-9_]*: ",
        "LINE_END": "\r?\n",
        "PRICE_KEY": "PRICE:\\ ",
        "PRICE_VALUE": "[0-9]{1,18}",
        "PRODUCT": "[A-Za-z0-9_-]+",
        "REASON_KEY": "REASON:\\ ",
        "REASON_VALUE": "(?:[^.\r\n\ud800-\udfff]|\\.(?! @[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} [0-9]{2}\\/[0-9]{2}\\/[0-9]{4}(?:\r?\n)?\\Z))[^.\r\n\ud800-\udfff]*+(?:\\.(?! @[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} [0-9]{2}\\/[0-9]{2}\\/[0-9]{4}(?:\r?\n)?\\Z)[^.\r\n\ud800-\udfff]*+)*+",
        "TIME": "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}",
        "VALUE": "(?:[^.\r\n\ud800-\udfff]|\\.(?! [A-Z][A-Z0-9_]*: | @[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} [0-9]{2}\\/[0-9]{2}\\/[0-9]{4}(?:\r?\n)?\\Z))[^.\r\n\ud800-\udfff]*+(?:\\.(?! [A-Z][A-Z0-9_]*: | @[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} [0-9]{2}\\/[0-9]{2}\\/[0-9]{4}(?:\r?\n)?\\Z)[^.\r\n\ud800-\udfff]*+)*+",
        "_AT": "@",
        "_REPLY_MARK": "R\\#",
        "_SEP": "\\.\\ ",
        "_SPACE": "\\ ",
    },
    "transaction.lark": {
        "AMOUNT": "[0-9]{1,3}(?:\\.[0-9]{3}){0,5}",
        "BALANCE_KEY": "SISA\\ SALDO:\\ ",
        "DATE": "[0-9]{2}\\/[0-9]{2}\\/[0-9]{4}",
        "DEST": "[A-Za-z0-9_+-]+",
        "DETAILS": "(?![A-Z][A-Z0-9_]*: |@[0-9]{2}:[0-9]{2}:)(?:[^.\r\n\ud800-\udfff]|\\.(?! TRXID: ))[^.\r\n\ud800-\udfff]*+(?:\\.(?! TRXID: )[^.\r\n\ud800-\udfff]*+)*+",
        "KEY": "[A-Z][A-Z0-9_]*: ",
        "LINE_END": "\r?\n",
        "PRODUCT": "[A-Za-z0-9_-]+",
        "REASON_KEY": "REASON:\\ ",
        "REASON_VALUE": "(?:[^.\r\n\ud800-\udfff]|\\.(?! TRXID: ))[^.\r\n\ud800-\udfff]*+(?:\\.(?! TRXID: )[^.\r\n\ud800-\udfff]*+)*+",
        "REF": "[A-Za-z0-9_-]+",
        "REFID_MARK": "\\&refid=",
        "STATUS": "[A-Z][A-Z_]*",
        "TIME": "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}",
        "TRXID": "[A-Za-z0-9_-]+",
        "TRXID_KEY": "TRXID:\\ ",
        "VALUE": "(?:[^.\r\n\ud800-\udfff]|\\.(?! [A-Z][A-Z0-9_]*: | @[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} [0-9]{2}\\/[0-9]{2}\\/[0-9]{4}(?:\r?\n)?\\Z))[^.\r\n\ud800-\udfff]*+(?:\\.(?! [A-Z][A-Z0-9_]*: | @[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} [0-9]{2}\\/[0-9]{2}\\/[0-9]{4}(?:\r?\n)?\\Z)[^.\r\n\ud800-\udfff]*+)*+",
        "_AT": "@",
        "_EQUALS": "\\ =\\ ",
        "_MINUS": "\\ \\-\\ ",
        "_REPLY_MARK": "R\\#",
        "_SEP": "\\.\\ ",
        "_SPACE": "\\ ",
    },
}
