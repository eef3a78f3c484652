"""The operator desk in the operator group chat: problem cards, commands, answers to tourists' questions.

Every router here is guarded by :mod:`handlers.operator.access`: only members of the operator chat and
``ADMIN_IDS`` get through; anyone else's button press is refused with "not allowed" and changes nothing.
"""
