"""The pytest plugin: options, target, report header. (Being built: issue 4.)"""
