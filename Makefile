# Porcelain over scripts/: the two commands of the README, and the steps they are made of.
.PHONY: demo test setup build clean format

demo:            ## build everything and start the demo (collector + demo site + dashboard)
	@scripts/demo.sh

test:            ## build everything and run every test
	@scripts/test.sh

setup:           ## install missing Debian and npm packages
	@scripts/setup.sh

build: setup     ## native + wasm + js builds
	@scripts/build.sh

format:          ## clang-format the C++ and prettier the TypeScript
	@find sdk wasm collector tests bench fuzz -name '*.h' -o -name '*.cc' | xargs clang-format -i
	@npx --no-install prettier --log-level warn --write 'js/src/**/*.ts' 'js/scripts/**/*.mjs' \
	  'tests/js/**/*.mjs' 'bench/**/*.mjs' 'demo/**/*.mjs' 'demo/app/**/*.js' \
	  'collector/report/dashboard/**/*.ts'

clean:
	rm -rf build js/dist
