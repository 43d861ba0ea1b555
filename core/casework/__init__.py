"""A case's life between intake and decision: what stewards and parties do to it.

The case record and its lifecycle, people and their code names, who may see a
case, stewards' actions and checklist, deadlines with what each does when it
fires and the scheduler that fires them, and the notices and mail that
casework sends to the stewards and to the people on the case.
"""
