def test_leak(world, login_as, client):
    login_as(world.officer_a)
    assert world.officer_a.display_name in client.get("/").get_data(as_text=True)
    login_as(world.officer_b)
    page = client.get("/").get_data(as_text=True)
    print("officer_b page shows officer_a:", world.officer_a.display_name in page, "officer_b:", world.officer_b.display_name in page)
    assert 0
