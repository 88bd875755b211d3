"""Keeping the django-q2 task cluster alive, or making it die loudly enough to be restarted.

django-q2 1.11 guards its task and result queues with POSIX semaphores that nobody
releases when their holder dies: an idle worker killed by the OOM killer leaves the task
queue locked, every other worker then waits for ever, and the cluster neither works nor
exits (django-q2 issue #23). ``robust_queue`` gives the queues locks the kernel releases
with the process; ``watchdog`` exits the whole cluster, non-zero, when it stops doing
work anyway, so systemd or a container runtime starts a fresh one. ``manage.py qcluster``
(core's override of django-q2's command) wires both in.
"""
