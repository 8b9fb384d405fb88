"""The shipped text corpora: load_names and load_text (offline, sizes, alphabet, licence note)."""
import os

import pytest

import tinygrad_edu.data as data
from tinygrad_edu.data import load_names, load_text


def test_names_are_the_1990_census_lists_lower_case_most_frequent_first():
    female, male = load_names("female"), load_names("male")
    assert len(female) == 4275 and len(male) == 1219
    assert female[:3] == ["mary", "patricia", "linda"] and male[:3] == ["james", "john", "robert"]
    assert all(name.isalpha() and name.islower() for name in female + male)


def test_all_names_are_female_then_new_male_names_without_repeats():
    names = load_names()
    assert len(names) == len(set(names)) == 4275 + 1219 - 331
    assert names[:4275] == load_names("female") and "james" in names and names.count("jean") == 1


def test_load_names_returns_a_fresh_list():
    load_names().clear()
    assert len(load_names()) == 5163


def test_load_names_bad_sex_raises():
    with pytest.raises(ValueError, match="sex must be 'female', 'male' or None"):
        load_names("f")


def test_text_is_about_100_kb_of_ascii_prose():
    text = load_text("pride_and_prejudice")
    assert len(text) == 99945 and text.isascii() and text.endswith("\n")
    assert text.startswith("PRIDE AND PREJUDICE") and "It is a truth universally acknowledged" in text
    assert "Chapter 12" in text and "Chapter 13" not in text
    assert len(set(text)) == 72  # the vocabulary a character-level GPT sees


def test_load_text_unknown_name_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"unknown text 'hamlet'; available: \['pride_and_prejudice'\]"):
        load_text("hamlet")


def test_sources_and_licences_are_stated_beside_the_files():
    folder = os.path.join(os.path.dirname(data.__file__), "corpus")
    readme = open(os.path.join(folder, "README.md"), encoding="utf-8").read()
    for file_name in sorted(os.listdir(folder)):
        if file_name.endswith(".gz"):
            assert file_name in readme
            assert os.path.getsize(os.path.join(folder, file_name)) < 50_000
    assert readme.count("public domain") >= 2
