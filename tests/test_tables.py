"""nnlab.report.tables.text_table: columns of numbers right-aligned, any other column
left-aligned."""

from nnlab.report.tables import text_table


def test_a_column_of_numbers_is_right_aligned_and_a_mixed_column_left_aligned():
    lines = text_table(["true", "read", "count"], [("W", "V", 5), ("0", "O", 12)])
    assert lines == [
        "true  read  count",
        "----  ----  -----",
        "W     V         5",
        "0     O        12",
    ]
    assert text_table(["name", "size"], [("a", "1,024"), ("b", "n/a")])[2:] == [
        "a     1,024",
        "b     n/a",
    ]
