from tapegrad._bounded_cache import bounded_cache


def test_keep_stores_and_returns_the_value():
    cache, keep = bounded_cache(3)
    value = [1]
    assert keep("a", value) is value
    assert cache.get("a") is value and cache.get("b") is None


def test_a_full_cache_empties_before_the_next_value():
    cache, keep = bounded_cache(2)
    keep("a", 1)
    keep("b", 2)
    assert cache == {"a": 1, "b": 2}
    keep("c", 3)  # (a program whose shapes keep changing: memory stays bounded)
    assert cache == {"c": 3}
