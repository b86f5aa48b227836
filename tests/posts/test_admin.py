import pytest
from django.core.files.storage import default_storage

from posts.models import Post
from tests.factories import UserFactory
from tests.posts.conftest import make_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client_for):
    admin = UserFactory(username="root_admin", is_staff=True, is_superuser=True)
    return client_for(admin)


def test_admin_lists_and_searches_posts(staff_client, author):
    make_post(author, caption="findable words")
    response = staff_client.get("/admin/posts/post/?q=findable")
    assert response.status_code == 200
    assert b"findable" in response.content or b"1 post" in response.content


def test_admin_remove_action_deletes_post_and_its_files(
    staff_client, author, django_capture_on_commit_callbacks
):
    from media.tasks import files_delete_task

    post = make_post(author)
    keys = post.images.get().storage_keys()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(
            "/admin/posts/post/",
            {"action": "remove_posts", "_selected_action": [str(post.pk)]},
        )
    assert response.status_code == 302
    assert not Post.objects.exists()
    assert len(callbacks) == 2  # the file removal task and the feed lists' update, on commit
    files_delete_task.run(keys)  # its body, run here directly
    assert not any(default_storage.exists(k) for k in keys)
